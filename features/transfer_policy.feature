Feature: Each organization chooses which completed tasks are invoiced
  As an organization that bills some customers only against a purchase order
  I want to choose between invoicing every completed task and only those with an order number
  so that no invoice reaches a customer who would refuse it for lack of their order number

  Background:
    Given the organization uses the Procountor integration
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |

  Scenario Outline: Which completed tasks are transferred
    Given the organization transfers <which tasks>
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 501 has <order number>
    When the integration runs
    Then <outcome>

    Examples:
      | which tasks                     | order number                   | outcome                                       |
      | all completed tasks             | order number "PO-77"           | an invoice is made for task 501               |
      | all completed tasks             | no order number                | an invoice is made for task 501               |
      | all completed tasks             | an order number of only spaces | an invoice is made for task 501               |
      | only tasks with an order number | order number "PO-77"           | an invoice is made for task 501               |
      | only tasks with an order number | no order number                | task 501 is held back because NO_ORDER_NUMBER |
      | only tasks with an order number | an order number of only spaces | task 501 is held back because NO_ORDER_NUMBER |

  Scenario: A task waiting for its order number is transferred once the number is added
    Given the organization transfers only tasks with an order number
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And the integration has run
    When task 501 gets order number "PO-77" in Spotilla
    And the integration runs again
    Then the invoice of task 501 has order reference "PO-77"

  Scenario: Switching to order numbers only does not hold back tasks that have one
    Given the organization transfers only tasks with an order number
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 501 has order number "PO-77"
    And a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because NO_ORDER_NUMBER
