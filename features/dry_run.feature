Feature: A dry run shows what would happen without changing anything
  As an administrator switching the integration on for an organization
  I want to see what the integration would create and what it would hold back, before it does anything
  so that I can fix the data first and switch on with confidence

  Background:
    Given the organization uses the Procountor integration
    And Spotilla's product register has:
      | code  | name              | unit   | unit price | VAT % |
      | ASE-1 | Installation work | h      | 49.90      | 25.5  |
      | ODD-1 | Odd product       | barrel | 10.00      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
      | Virhe Oy    | 0112038-8   |
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |
    And a completed task 502 for "Virhe Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And Procountor already has a customer "Uusi Asiakas Oy" with business ID "2077474-0"

  Scenario: A dry run lists what would be created and what would be held back
    When the integration runs as a dry run
    Then the run report lists:
      | what                                      | outcome          | reason                  |
      | product ASE-1                             | would be created |                         |
      | product ODD-1                             | held back        | PRODUCT_NOT_CREATABLE   |
      | customer Rakennus Oy                      | would be created |                         |
      | customer Virhe Oy                         | held back        | BUSINESS_ID_CHECK_DIGIT |
      | customer Uusi Asiakas Oy, from Procountor | would be created |                         |
      | invoice of task 501                       | would be created |                         |
      | invoice of task 502                       | held back        | BUSINESS_ID_CHECK_DIGIT |

  Scenario: A dry run changes nothing in Procountor, in Spotilla or in the integration's memory
    When the integration runs as a dry run
    Then Procountor is exactly as it was before the run
    And Spotilla's customers are exactly as they were before this run
    And the integration remembers nothing of the run

  Scenario: A real run after a dry run does everything the dry run showed
    Given the integration has run as a dry run
    When the integration runs
    Then an invoice is made for task 501
    And Procountor has 1 product with code "ASE-1"
    And Spotilla has a customer "Uusi Asiakas Oy" with business ID "2077474-0"
