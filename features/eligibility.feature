Feature: Why a completed task is held back
  As an office worker who fixes work orders in Spotilla
  I want to see every reason a completed task was not invoiced, each with a stable code and a sentence
  so that I can fix everything at once and the invoice follows without anyone pressing a button

  Background:
    Given the organization uses the Procountor integration
    And Spotilla's product register has:
      | code  | name              | unit   | unit price | VAT % |
      | ASE-1 | Installation work | h      | 49.90      | 25.5  |
      | ODD-1 | Odd product       | barrel | 10.00      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |

  Scenario: A task without a customer is held back
    Given a completed task 501 without a customer, with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because NO_CUSTOMER
    And the reason says "The task has no customer; choose the customer on the task in Spotilla."

  Scenario: A task whose customer was removed from Spotilla is held back
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And customer "Rakennus Oy" has been removed from Spotilla
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because CUSTOMER_NOT_FOUND

  Scenario Outline: A task whose customer cannot be invoiced is held back
    Given Spotilla's customer register also has:
      | name   | business ID   |
      | <name> | <business ID> |
    And a completed task 501 for the customer with business ID "<business ID>" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because <reason>

    Examples:
      | name       | business ID | reason                  |
      |            | 1572860-0   | CUSTOMER_NAME_MISSING   |
      | Nimetön Oy |             | BUSINESS_ID_MISSING     |
      | Väärä Oy   | 15728601    | BUSINESS_ID_CHECK_DIGIT |
      | Outo Oy    | 1572860/0   | BUSINESS_ID_MALFORMED   |

  Scenario Outline: A task whose products cannot be invoiced is held back
    Given a completed task 501 for "Rakennus Oy" with:
      | product   | quantity   |
      | <product> | <quantity> |
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because <reason>

    Examples:
      | product | quantity | reason                |
      | ASE-1   | 0        | QUANTITY_NOT_POSITIVE |
      | ASE-1   | -1       | QUANTITY_NOT_POSITIVE |
      | ODD-1   | 1        | PRODUCT_NOT_CREATABLE |

  Scenario: A task without products is held back
    Given a completed task 501 for "Rakennus Oy" with no products
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because NO_PRODUCTS

  Scenario: A task using a product that was removed from the product register is held back
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
      | ODD-1   | 1        |
    And product "ODD-1" has been removed from Spotilla's product register
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because PRODUCT_NOT_FOUND

  Scenario: A task whose customer Procountor would not take is held back
    Given Spotilla's customer register also has:
      | name       | business ID | country |
      | Ulkomaa Oy | 1572860-0   | XX      |
    And a completed task 501 for "Ulkomaa Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because FIELD_INVALID

  Scenario: A task whose customer duplicates another customer is held back
    Given Spotilla's customer register also has:
      | name              | business ID |
      | Rakennus Oy (old) | 0112038-9   |
    And the integration has run
    And a completed task 501 for "Rakennus Oy (old)" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because DUPLICATE_CUSTOMER

  Scenario: Every reason is listed at once, not just the first
    Given the organization transfers only tasks with an order number
    And Spotilla's customer register also has:
      | name | business ID |
      |      | 2077474-1   |
    And a completed task 501 for the customer with business ID "2077474-1" with:
      | product | quantity |
      | ASE-1   | 0        |
      | ODD-1   | 2        |
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back with the reasons:
      | reason                  |
      | CUSTOMER_NAME_MISSING   |
      | BUSINESS_ID_CHECK_DIGIT |
      | NO_ORDER_NUMBER         |
      | QUANTITY_NOT_POSITIVE   |
      | PRODUCT_NOT_CREATABLE   |
    And every reason comes with a sentence saying what to do

  Scenario Outline: A task that is not completed is not invoiced and not reported
    Given a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 501 is <status>
    When the integration runs
    Then no invoice is made for task 501
    And the run report does not mention task 501

    Examples:
      | status      |
      | OPEN        |
      | IN_PROGRESS |
      | CANCELLED   |

  Scenario: A held-back task is told once, not in every run
    Given a completed task 501 without a customer, with:
      | product | quantity |
      | ASE-1   | 1        |
    And the integration has run
    When the integration runs again
    Then the run report does not mention task 501
    And task 501 is held back because NO_CUSTOMER

  Scenario: A held-back task is transferred automatically once it is fixed
    Given Spotilla's customer register also has:
      | name      | business ID |
      | Korjaa Oy | 1572860-1   |
    And a completed task 501 for "Korjaa Oy" with:
      | product | quantity |
      | ASE-1   | 0        |
    And the integration has run
    When the business ID of customer "Korjaa Oy" is corrected to "1572860-0" in Spotilla
    And the quantity of "ASE-1" on task 501 is changed to 2 in Spotilla
    And the integration runs again
    Then an invoice is made for task 501
